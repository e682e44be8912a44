"""The scanner page for staff; it talks to the JSON API with a token made for this browser."""
