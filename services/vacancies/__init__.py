"""Vacancies service: employers and their vacancies: openings, required skills, minimum trade level, workplace, wage and social insurance."""
