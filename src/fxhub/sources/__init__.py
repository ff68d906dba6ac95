"""Vendor adapters: each turns a vendor's wire or file format into fxhub's domain types."""
