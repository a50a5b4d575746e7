"""What a family may ask of the data the service holds about them: delete all of it, or have a copy.

`deletion` is the account deletion job (bounded steps, resumed by its next message or a redelivery),
`export` builds the zip of everything, `sweep` finds accounts gone from the user directory, `directory`
speaks to that directory (Cognito), `jobs` are the two queues' messages.
"""
