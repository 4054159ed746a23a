"""The ``OMQ`` module of interface code: status, step-type and severity constants."""

from __future__ import annotations

from qorus_core.model.status import ORDER_STATUS_CODES

StatComplete = "COMPLETE"
StatError = "ERROR"
StatWaiting = "WAITING"
StatInProgress = "IN-PROGRESS"
StatIncomplete = "INCOMPLETE"
StatAsyncWaiting = "ASYNC-WAITING"
StatEventWaiting = "EVENT-WAITING"
StatRetry = "RETRY"
StatCanceled = "CANCELED"
StatReady = "READY"
StatScheduled = "SCHEDULED"
StatBlocked = "BLOCKED"

SQLStatComplete = "C"
SQLStatError = "E"
SQLStatWaiting = "W"
SQLStatInProgress = "I"
SQLStatIncomplete = "N"
SQLStatAsyncWaiting = "A"
SQLStatEventWaiting = "V"
SQLStatRetry = "R"
SQLStatCanceled = "X"
SQLStatReady = "Y"
SQLStatScheduled = "S"
SQLStatBlocked = "B"

StatMap: dict[str, str] = dict(ORDER_STATUS_CODES)
SQLStatMap: dict[str, str] = {v: k for k, v in ORDER_STATUS_CODES.items()}

ExecNormal = "NORMAL"
ExecAsync = "ASYNC"
ExecSubWorkflow = "SUBWORKFLOW"
ExecEvent = "EVENT"

ArrayNone = "NONE"
ArraySeries = "SERIES"

ES_Fatal = "FATAL"
ES_Major = "MAJOR"
ES_Minor = "MINOR"
ES_Warning = "WARNING"
ES_Info = "INFO"
ES_None = "NONE"

ErrLevelAuto = "AUTO"
ErrLevelGlobal = "GLOBAL"
ErrLevelWorkflow = "WORKFLOW"

WISInitializing = "initializing"
WISRunning = "running"
WISWaiting = "waiting"
WISStopping = "stopping"

WM_Normal = "NORMAL"
WM_Recovery = "RECOVERY"
WM_Synchronous = "SYNCHRONOUS"

SSRunning = "running"
SSLoaded = "loaded"
