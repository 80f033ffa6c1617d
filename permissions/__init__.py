"""Who may see and do what: the viewer, their active role, and the restricting querysets."""
