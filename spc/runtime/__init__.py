"""What runs SPC's services: the services by name (`fleet`), the configuration from the
environment (`config`), the runner of several services in one process (`runner`), the embedded
broker (`embedded`) and where the log records go (`logs`)."""
