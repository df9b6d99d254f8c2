"""What the three checkout samples share: Restate services, the payment simulator, the demo."""
