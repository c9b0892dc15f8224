"""The profile read model: one document per contact, plus templates, consent history
and (sealed) notes."""
