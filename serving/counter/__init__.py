"""The counter screen: fan-out of sessions to screens, the page's rendering and access."""
