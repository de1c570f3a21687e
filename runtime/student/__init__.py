"""Students: the small models that run llm nodes."""

from .base import Generation, Student

__all__ = ["Generation", "Student"]
