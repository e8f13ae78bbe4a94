"""`newsbot bench NAME`: one module per benchmark, the timing and report helpers in report.py."""
