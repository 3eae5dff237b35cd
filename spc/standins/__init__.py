"""Stand-ins for the outside systems SPC talks to, for `spc demo` and the tests: Démarches
Simplifiées' dossiers (`ds`), API Recherche d'entreprises (`registries`), and what their HTTP
servers share (`http`)."""
