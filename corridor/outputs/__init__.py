"""Outputs: plan documents, shortlist tables, maps, written atomically."""
