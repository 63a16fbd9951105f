"""The leadership report: HTML from Jinja2 templates, and the PDF from the same HTML via WeasyPrint.

Kept as a package (view model, templates, HTML and PDF writers) so that a plain
``plantgate check`` never imports Jinja2 or WeasyPrint.
"""
