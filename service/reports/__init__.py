"""Results of the year-end evaluation for the annual rating: each sheet's answers as their labels,
the per-cell report (Excel, Word) with the absences of the year and the absence-rule flag, and
the chart page."""
