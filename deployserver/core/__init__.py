"""The core app: AWS accounts (and the one door to boto3), encrypted fields, API keys, audit.

Its app label stays ``deployserver``: table names, migration history and permission codenames
(``deployserver.change_awsaccount`` …) are those of the days when the project was the app.
"""
