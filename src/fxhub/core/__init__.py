"""The pure core: bars and order flow from exchange records. No network, database or asyncio here."""
