"""shop: orders, media uploads and a jobs table with its worker and beat."""
