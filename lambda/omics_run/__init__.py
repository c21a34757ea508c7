"""Runtime code of the Custom::OmicsRun provider: everything but the crhelper wiring."""
