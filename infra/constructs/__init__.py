"""One construct per box of the architecture diagram."""
