"""The web edge: controllers for participants, the JSON API and evaluators."""
