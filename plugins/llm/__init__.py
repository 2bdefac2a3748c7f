"""LLM engines for the study coach (modules/coach/llm_port.py defines the port they implement)."""
