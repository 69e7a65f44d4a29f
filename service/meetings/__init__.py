"""Residence meetings: logic and pages."""
