"""The hub: one server every candle goes through, its stores, and the client strategies use."""
