"""Matching service: read models of candidates and vacancies, explainable match scores, recommendations, job fairs and invitation allocation."""
