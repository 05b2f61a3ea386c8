"""Figures and the HTML report (reads results folders and tables; never imports the engine)."""
