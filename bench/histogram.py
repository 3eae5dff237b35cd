"""A latency histogram as a small standalone SVG (no plotting library needed)."""

from html import escape


def svg(values, path, title, bins=30, width=640, height=320):
    if not values:
        return
    top = max(values)
    step = max(top / bins, 1e-9)
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / step))] += 1
    peak = max(counts)
    left, bottom, plot_w, plot_h = 50, height - 40, width - 70, height - 80
    bar_w = plot_w / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="13">{escape(title)}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="black"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{left}" y2="{bottom - plot_h}" stroke="black"/>',
    ]
    for i, c in enumerate(counts):
        h = plot_h * c / peak
        parts.append(
            f'<rect x="{left + i * bar_w + 1:.1f}" y="{bottom - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="#3b6ea5"/>'
        )
    for i in range(0, bins + 1, max(1, bins // 6)):
        x = left + i * bar_w
        parts.append(f'<text x="{x:.1f}" y="{bottom + 15}" text-anchor="middle">{i * step:.0f}</text>')
    parts.append(f'<text x="{left - 8}" y="{bottom - plot_h + 4}" text-anchor="end">{peak}</text>')
    parts.append(f'<text x="{left - 8}" y="{bottom}" text-anchor="end">0</text>')
    parts.append(f'<text x="{width / 2}" y="{height - 5}" text-anchor="middle">{len(values)} samples</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts))
