// The lightbox: the full-resolution pair with zoom and pan.
