"""The activity feed: one entry per thing that happened to a contact."""
