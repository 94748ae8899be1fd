"""Outside systems the tracking page asks: road routers (one module each)."""
