"""Use cases people run (import, analyse, report), persistence and jobs."""
