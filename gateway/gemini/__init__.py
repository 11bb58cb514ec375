"""Gemini's own API (generateContent), spoken to directly or through a relay that keeps it."""
