"""Contracts and grants as records: the model, its lifecycle, creating and editing, the
clause attached, exemptions, thresholds, who may see and work on which, the import, and the
documents generated for an agreement. Its pages live in the registry package."""
