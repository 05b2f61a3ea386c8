"""Files: network CSV folders, scenario TOML files and results folders, read into specs and tables."""
