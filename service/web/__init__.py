"""The side-by-side bilingual view: layout model, jinja2 templates, static CSS/JS, standalone export."""
