"""The residence cell's digital path beside the paper one (issue 11, item 7).

The committee issues a one-time code for a printed sheet (``codes``); the cell secretary,
signed in or with that code, fills the same sheet online (``answers``).  The answer is stored
as a page of source "digital" and goes through the same decision, review, audit and apply as a
scanned page (``service.scans.decide``): a paper scan and a digital answer for the same sheet
with different answers are a conflict for review.
"""
