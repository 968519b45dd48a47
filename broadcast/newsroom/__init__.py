"""The staff pages in a browser (editors, approvers): server-rendered Django templates with htmx.
Each page module keeps its own routes; pages call the same services and selectors as the API."""
