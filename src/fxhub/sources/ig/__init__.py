"""IG Markets: spot quotes whose only volume is the count of quote updates."""
