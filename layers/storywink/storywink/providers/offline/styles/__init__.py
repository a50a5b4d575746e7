"""Art styles for the offline illustrator: each turns a photo into a picture-book page, Pillow only."""
