"""Adapters for OpenAI's hosted models through the official SDK: a vision chat model writes the story,
the Images edit API redraws each photo. Selected with STORY_PROVIDER / ILLUSTRATION_PROVIDER=openai."""
