CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE audit_event_codes (
    audit_event_code INTEGER NOT NULL, 
    name VARCHAR(80) NOT NULL, 
    description VARCHAR(240), 
    CONSTRAINT pk_audit_event_codes PRIMARY KEY (audit_event_code), 
    CONSTRAINT uq_audit_event_codes_name UNIQUE (name)
);

CREATE TABLE classes (
    classid INTEGER NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    version VARCHAR(80) NOT NULL, 
    description VARCHAR(4000), 
    author VARCHAR(240), 
    language VARCHAR(40) NOT NULL, 
    class_name VARCHAR(160), 
    code TEXT, 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_classes PRIMARY KEY (classid), 
    CONSTRAINT uq_classes_name_version UNIQUE (name, version)
);

CREATE TABLE error_definitions (
    name VARCHAR(160) NOT NULL, 
    error VARCHAR(240) NOT NULL, 
    description VARCHAR(4000), 
    severity VARCHAR(20), 
    status VARCHAR(20), 
    business BOOLEAN, 
    retry_delay INTEGER, 
    level VARCHAR(20), 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_error_definitions PRIMARY KEY (name, error)
);

CREATE TABLE error_files (
    name VARCHAR(160) NOT NULL, 
    file_name VARCHAR(255) NOT NULL, 
    description VARCHAR(4000), 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_error_files PRIMARY KEY (name)
);

CREATE TABLE global_workflow_errors (
    error VARCHAR(240) NOT NULL, 
    description VARCHAR(4000), 
    severity VARCHAR(20), 
    status VARCHAR(20), 
    business BOOLEAN, 
    retry_delay INTEGER, 
    level VARCHAR(20), 
    builtin BOOLEAN NOT NULL, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_global_workflow_errors PRIMARY KEY (error)
);

CREATE TABLE groups (
    groupid INTEGER NOT NULL, 
    name VARCHAR(80) NOT NULL, 
    description VARCHAR(4000), 
    enabled BOOLEAN NOT NULL, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_groups PRIMARY KEY (groupid), 
    CONSTRAINT uq_groups_name UNIQUE (name)
);

CREATE TABLE jobs (
    jobid INTEGER NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    version VARCHAR(80) NOT NULL, 
    description VARCHAR(4000), 
    author VARCHAR(240), 
    active BOOLEAN NOT NULL, 
    enabled BOOLEAN NOT NULL, 
    run_skipped BOOLEAN NOT NULL, 
    single_instance BOOLEAN NOT NULL, 
    expiry_date DATETIME, 
    minute VARCHAR(240), 
    hour VARCHAR(240), 
    day VARCHAR(240), 
    month VARCHAR(240), 
    wday VARCHAR(240), 
    recurring INTEGER, 
    language VARCHAR(40) NOT NULL, 
    class_name VARCHAR(160), 
    code TEXT, 
    classes VARCHAR(4000), 
    config_items TEXT, 
    sessionid INTEGER NOT NULL, 
    last_executed DATETIME, 
    last_executed_job_instanceid INTEGER, 
    next_trigger DATETIME, 
    persistent_state TEXT, 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_jobs PRIMARY KEY (jobid), 
    CONSTRAINT uq_jobs_name_version UNIQUE (name, version)
);

CREATE TABLE permissions (
    name VARCHAR(80) NOT NULL, 
    permission_type VARCHAR(10) NOT NULL, 
    description VARCHAR(240), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_permissions PRIMARY KEY (name)
);

CREATE TABLE queues (
    queueid INTEGER NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    description VARCHAR(4000), 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_queues PRIMARY KEY (queueid), 
    CONSTRAINT uq_queues_name UNIQUE (name)
);

CREATE TABLE releases (
    releaseid INTEGER NOT NULL, 
    name VARCHAR(240) NOT NULL, 
    source VARCHAR(4000), 
    loaded_by VARCHAR(160), 
    hostname VARCHAR(160), 
    created DATETIME NOT NULL, 
    CONSTRAINT pk_releases PRIMARY KEY (releaseid)
);

CREATE INDEX ix_releases_name ON releases (name);

CREATE TABLE roles (
    role VARCHAR(80) NOT NULL, 
    provider VARCHAR(40) NOT NULL, 
    description VARCHAR(240), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_roles PRIMARY KEY (role)
);

CREATE TABLE services (
    serviceid INTEGER NOT NULL, 
    service_type VARCHAR(20) NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    version VARCHAR(80) NOT NULL, 
    description VARCHAR(4000), 
    author VARCHAR(240), 
    autostart BOOLEAN NOT NULL, 
    enabled BOOLEAN NOT NULL, 
    language VARCHAR(40) NOT NULL, 
    class_name VARCHAR(160), 
    code TEXT, 
    classes VARCHAR(4000), 
    resources TEXT, 
    config_items TEXT, 
    options TEXT, 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_services PRIMARY KEY (serviceid), 
    CONSTRAINT uq_services_name_version UNIQUE (name, version)
);

CREATE TABLE sessions (
    sessionid INTEGER NOT NULL, 
    instancekey VARCHAR(80) NOT NULL, 
    node VARCHAR(160) NOT NULL, 
    hostname VARCHAR(160) NOT NULL, 
    pid INTEGER NOT NULL, 
    pidstart VARCHAR(80), 
    url VARCHAR(250), 
    version VARCHAR(40), 
    sessionstatus VARCHAR(20) NOT NULL, 
    started DATETIME NOT NULL, 
    heartbeat DATETIME, 
    ended DATETIME, 
    CONSTRAINT pk_sessions PRIMARY KEY (sessionid)
);

CREATE INDEX ix_sessions_instancekey_sessionstatus ON sessions (instancekey, sessionstatus);

CREATE INDEX ix_sessions_sessionstatus ON sessions (sessionstatus);

CREATE TABLE system_properties (
    domain VARCHAR(80) NOT NULL, 
    keyname VARCHAR(160) NOT NULL, 
    value VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_system_properties PRIMARY KEY (domain, keyname)
);

CREATE TABLE users (
    username VARCHAR(160) NOT NULL, 
    name VARCHAR(240), 
    password VARCHAR(400), 
    provider VARCHAR(40) NOT NULL, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_users PRIMARY KEY (username)
);

CREATE TABLE workflow_event_types (
    workflow_event_typeid INTEGER NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    description VARCHAR(4000), 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_workflow_event_types PRIMARY KEY (workflow_event_typeid), 
    CONSTRAINT uq_workflow_event_types_name UNIQUE (name)
);

CREATE TABLE workflows (
    workflowid INTEGER NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    version VARCHAR(80) NOT NULL, 
    description VARCHAR(4000), 
    author VARCHAR(240), 
    autostart INTEGER NOT NULL, 
    max_instances INTEGER, 
    sla_threshold INTEGER NOT NULL, 
    enabled BOOLEAN NOT NULL, 
    deprecated BOOLEAN NOT NULL, 
    steps_def TEXT, 
    language VARCHAR(40) NOT NULL, 
    class_name VARCHAR(160), 
    code TEXT, 
    classes VARCHAR(4000), 
    errors_name VARCHAR(160), 
    options TEXT, 
    staticdata_type VARCHAR(240), 
    custom_statuses TEXT, 
    config_items TEXT, 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_workflows PRIMARY KEY (workflowid), 
    CONSTRAINT uq_workflows_name_version UNIQUE (name, version)
);

CREATE INDEX ix_workflows_name ON workflows (name);

CREATE TABLE audit_events (
    audit_eventid INTEGER NOT NULL, 
    related_audit_eventid INTEGER, 
    workflowid INTEGER, 
    workflow_instanceid INTEGER, 
    stepid INTEGER, 
    ind INTEGER, 
    jobid INTEGER, 
    job_instanceid INTEGER, 
    serviceid INTEGER, 
    audit_event_code INTEGER NOT NULL, 
    audit_user_event VARCHAR(80), 
    reason VARCHAR(4000), 
    who VARCHAR(4000), 
    source VARCHAR(4000), 
    info1 VARCHAR(4000), 
    info2 VARCHAR(4000), 
    created DATETIME NOT NULL, 
    CONSTRAINT pk_audit_events PRIMARY KEY (audit_eventid), 
    CONSTRAINT fk_audit_events_audit_event_code_audit_event_codes FOREIGN KEY(audit_event_code) REFERENCES audit_event_codes (audit_event_code)
);

CREATE INDEX ix_audit_events_audit_event_code ON audit_events (audit_event_code);

CREATE INDEX ix_audit_events_created ON audit_events (created);

CREATE INDEX ix_audit_events_job_instanceid ON audit_events (job_instanceid);

CREATE INDEX ix_audit_events_jobid ON audit_events (jobid);

CREATE INDEX ix_audit_events_related_audit_eventid ON audit_events (related_audit_eventid);

CREATE INDEX ix_audit_events_serviceid ON audit_events (serviceid);

CREATE INDEX ix_audit_events_workflow_instanceid ON audit_events (workflow_instanceid);

CREATE INDEX ix_audit_events_workflowid ON audit_events (workflowid);

CREATE TABLE group_jobs (
    groupid INTEGER NOT NULL, 
    jobid INTEGER NOT NULL, 
    CONSTRAINT pk_group_jobs PRIMARY KEY (groupid, jobid), 
    CONSTRAINT fk_group_jobs_groupid_groups FOREIGN KEY(groupid) REFERENCES groups (groupid), 
    CONSTRAINT fk_group_jobs_jobid_jobs FOREIGN KEY(jobid) REFERENCES jobs (jobid)
);

CREATE TABLE group_services (
    groupid INTEGER NOT NULL, 
    serviceid INTEGER NOT NULL, 
    CONSTRAINT pk_group_services PRIMARY KEY (groupid, serviceid), 
    CONSTRAINT fk_group_services_groupid_groups FOREIGN KEY(groupid) REFERENCES groups (groupid), 
    CONSTRAINT fk_group_services_serviceid_services FOREIGN KEY(serviceid) REFERENCES services (serviceid)
);

CREATE TABLE group_workflows (
    groupid INTEGER NOT NULL, 
    workflowid INTEGER NOT NULL, 
    CONSTRAINT pk_group_workflows PRIMARY KEY (groupid, workflowid), 
    CONSTRAINT fk_group_workflows_groupid_groups FOREIGN KEY(groupid) REFERENCES groups (groupid), 
    CONSTRAINT fk_group_workflows_workflowid_workflows FOREIGN KEY(workflowid) REFERENCES workflows (workflowid)
);

CREATE TABLE job_instance (
    job_instanceid INTEGER NOT NULL, 
    jobid INTEGER NOT NULL, 
    sessionid INTEGER NOT NULL, 
    jobstatus VARCHAR(1) NOT NULL, 
    info TEXT, 
    state_data TEXT, 
    started DATETIME NOT NULL, 
    completed DATETIME, 
    modified DATETIME, 
    CONSTRAINT pk_job_instance PRIMARY KEY (job_instanceid), 
    CONSTRAINT fk_job_instance_jobid_jobs FOREIGN KEY(jobid) REFERENCES jobs (jobid)
);

CREATE INDEX ix_job_instance_jobid_started ON job_instance (jobid, started);

CREATE INDEX ix_job_instance_jobstatus_sessionid ON job_instance (jobstatus, sessionid);

CREATE TABLE permission_includes (
    name VARCHAR(80) NOT NULL, 
    includes VARCHAR(80) NOT NULL, 
    CONSTRAINT pk_permission_includes PRIMARY KEY (name, includes), 
    CONSTRAINT fk_permission_includes_includes_permissions FOREIGN KEY(includes) REFERENCES permissions (name), 
    CONSTRAINT fk_permission_includes_name_permissions FOREIGN KEY(name) REFERENCES permissions (name)
);

CREATE TABLE release_components (
    releaseid INTEGER NOT NULL, 
    seq INTEGER NOT NULL, 
    component_type VARCHAR(40) NOT NULL, 
    name VARCHAR(240) NOT NULL, 
    version VARCHAR(80), 
    objectid INTEGER, 
    filename VARCHAR(4000), 
    CONSTRAINT pk_release_components PRIMARY KEY (releaseid, seq), 
    CONSTRAINT fk_release_components_releaseid_releases FOREIGN KEY(releaseid) REFERENCES releases (releaseid)
);

CREATE TABLE role_groups (
    role VARCHAR(80) NOT NULL, 
    groupid INTEGER NOT NULL, 
    CONSTRAINT pk_role_groups PRIMARY KEY (role, groupid), 
    CONSTRAINT fk_role_groups_groupid_groups FOREIGN KEY(groupid) REFERENCES groups (groupid), 
    CONSTRAINT fk_role_groups_role_roles FOREIGN KEY(role) REFERENCES roles (role)
);

CREATE TABLE role_permissions (
    role VARCHAR(80) NOT NULL, 
    permission VARCHAR(80) NOT NULL, 
    CONSTRAINT pk_role_permissions PRIMARY KEY (role, permission), 
    CONSTRAINT fk_role_permissions_permission_permissions FOREIGN KEY(permission) REFERENCES permissions (name), 
    CONSTRAINT fk_role_permissions_role_roles FOREIGN KEY(role) REFERENCES roles (role)
);

CREATE TABLE segment_dependencies (
    workflowid INTEGER NOT NULL, 
    segmentid INTEGER NOT NULL, 
    dependson_segmentid INTEGER NOT NULL, 
    CONSTRAINT pk_segment_dependencies PRIMARY KEY (workflowid, segmentid, dependson_segmentid), 
    CONSTRAINT fk_segment_dependencies_workflowid_workflows FOREIGN KEY(workflowid) REFERENCES workflows (workflowid)
);

CREATE TABLE service_methods (
    service_methodid INTEGER NOT NULL, 
    serviceid INTEGER NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    description VARCHAR(4000), 
    locktype VARCHAR(20) NOT NULL, 
    write BOOLEAN NOT NULL, 
    internal BOOLEAN NOT NULL, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_service_methods PRIMARY KEY (service_methodid), 
    CONSTRAINT fk_service_methods_serviceid_services FOREIGN KEY(serviceid) REFERENCES services (serviceid), 
    CONSTRAINT uq_service_methods_serviceid_name UNIQUE (serviceid, name)
);

CREATE TABLE service_state_data (
    serviceid INTEGER NOT NULL, 
    data TEXT, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_service_state_data PRIMARY KEY (serviceid), 
    CONSTRAINT fk_service_state_data_serviceid_services FOREIGN KEY(serviceid) REFERENCES services (serviceid)
);

CREATE TABLE steps (
    stepid INTEGER NOT NULL, 
    name VARCHAR(160) NOT NULL, 
    version VARCHAR(80) NOT NULL, 
    description VARCHAR(4000), 
    author VARCHAR(240), 
    steptype VARCHAR(20) NOT NULL, 
    arraytype VARCHAR(20) NOT NULL, 
    language VARCHAR(40) NOT NULL, 
    class_name VARCHAR(160), 
    base_class_name VARCHAR(160), 
    code TEXT, 
    classes VARCHAR(4000), 
    config_items TEXT, 
    queueid INTEGER, 
    workflow_event_typeid INTEGER, 
    source VARCHAR(4000), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_steps PRIMARY KEY (stepid), 
    CONSTRAINT fk_steps_queueid_queues FOREIGN KEY(queueid) REFERENCES queues (queueid), 
    CONSTRAINT fk_steps_workflow_event_typeid_workflow_event_types FOREIGN KEY(workflow_event_typeid) REFERENCES workflow_event_types (workflow_event_typeid), 
    CONSTRAINT uq_steps_name_version UNIQUE (name, version)
);

CREATE TABLE user_roles (
    username VARCHAR(160) NOT NULL, 
    role VARCHAR(80) NOT NULL, 
    CONSTRAINT pk_user_roles PRIMARY KEY (username, role), 
    CONSTRAINT fk_user_roles_role_roles FOREIGN KEY(role) REFERENCES roles (role), 
    CONSTRAINT fk_user_roles_username_users FOREIGN KEY(username) REFERENCES users (username)
);

CREATE TABLE workflow_errors (
    workflowid INTEGER NOT NULL, 
    error VARCHAR(240) NOT NULL, 
    description VARCHAR(4000), 
    severity VARCHAR(20), 
    status VARCHAR(20), 
    business BOOLEAN, 
    retry_delay INTEGER, 
    level VARCHAR(20), 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_workflow_errors PRIMARY KEY (workflowid, error), 
    CONSTRAINT fk_workflow_errors_workflowid_workflows FOREIGN KEY(workflowid) REFERENCES workflows (workflowid)
);

CREATE TABLE workflow_instance (
    workflow_instanceid INTEGER NOT NULL, 
    workflowid INTEGER NOT NULL, 
    workflowstatus VARCHAR(1) NOT NULL, 
    workflowstatus_orig VARCHAR(1), 
    status_sessionid INTEGER NOT NULL, 
    parent_workflow_instanceid INTEGER, 
    subworkflow BOOLEAN NOT NULL, 
    synchronous BOOLEAN NOT NULL, 
    priority INTEGER NOT NULL, 
    scheduled DATETIME, 
    retry_trigger DATETIME, 
    retries INTEGER NOT NULL, 
    errors INTEGER NOT NULL, 
    warnings INTEGER NOT NULL, 
    note_count INTEGER NOT NULL, 
    business_error BOOLEAN NOT NULL, 
    custom_status VARCHAR(1), 
    operator_lock VARCHAR(100), 
    started DATETIME NOT NULL, 
    completed DATETIME, 
    modified DATETIME, 
    CONSTRAINT pk_workflow_instance PRIMARY KEY (workflow_instanceid), 
    CONSTRAINT fk_workflow_instance_workflowid_workflows FOREIGN KEY(workflowid) REFERENCES workflows (workflowid)
);

CREATE INDEX ix_workflow_instance_modified ON workflow_instance (modified);

CREATE INDEX ix_workflow_instance_parent_workflow_instanceid ON workflow_instance (parent_workflow_instanceid);

CREATE INDEX ix_workflow_instance_started ON workflow_instance (started);

CREATE INDEX ix_workflow_instance_workflowid_workflowstatus_priority_workflow_instanceid ON workflow_instance (workflowid, workflowstatus, priority, workflow_instanceid);

CREATE INDEX ix_workflow_instance_workflowstatus_status_sessionid ON workflow_instance (workflowstatus, status_sessionid);

CREATE TABLE workflow_keys (
    workflowid INTEGER NOT NULL, 
    keyname VARCHAR(160) NOT NULL, 
    CONSTRAINT pk_workflow_keys PRIMARY KEY (workflowid, keyname), 
    CONSTRAINT fk_workflow_keys_workflowid_workflows FOREIGN KEY(workflowid) REFERENCES workflows (workflowid)
);

CREATE TABLE error_instance (
    error_instanceid INTEGER NOT NULL, 
    workflow_instanceid INTEGER NOT NULL, 
    stepid INTEGER, 
    ind INTEGER, 
    severity VARCHAR(20) NOT NULL, 
    retry BOOLEAN NOT NULL, 
    error VARCHAR(240) NOT NULL, 
    description VARCHAR(4000), 
    info TEXT, 
    business_error BOOLEAN NOT NULL, 
    created DATETIME NOT NULL, 
    CONSTRAINT pk_error_instance PRIMARY KEY (error_instanceid), 
    CONSTRAINT fk_error_instance_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE INDEX ix_error_instance_workflow_instanceid ON error_instance (workflow_instanceid);

CREATE TABLE job_errors (
    job_errorid INTEGER NOT NULL, 
    job_instanceid INTEGER NOT NULL, 
    severity VARCHAR(20) NOT NULL, 
    error VARCHAR(240) NOT NULL, 
    description VARCHAR(4000), 
    info TEXT, 
    business_error BOOLEAN NOT NULL, 
    created DATETIME NOT NULL, 
    CONSTRAINT pk_job_errors PRIMARY KEY (job_errorid), 
    CONSTRAINT fk_job_errors_job_instanceid_job_instance FOREIGN KEY(job_instanceid) REFERENCES job_instance (job_instanceid)
);

CREATE INDEX ix_job_errors_job_instanceid ON job_errors (job_instanceid);

CREATE TABLE order_instance (
    workflow_instanceid INTEGER NOT NULL, 
    external_order_instanceid VARCHAR(240), 
    staticdata TEXT, 
    dynamicdata TEXT, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_order_instance PRIMARY KEY (workflow_instanceid), 
    CONSTRAINT fk_order_instance_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE INDEX ix_order_instance_external_order_instanceid ON order_instance (external_order_instanceid);

CREATE TABLE order_instance_keys (
    workflow_instanceid INTEGER NOT NULL, 
    keyname VARCHAR(160) NOT NULL, 
    value VARCHAR(400) NOT NULL, 
    workflowid INTEGER NOT NULL, 
    created DATETIME NOT NULL, 
    CONSTRAINT pk_order_instance_keys PRIMARY KEY (workflow_instanceid, keyname, value), 
    CONSTRAINT fk_order_instance_keys_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE INDEX ix_order_instance_keys_keyname_value ON order_instance_keys (keyname, value);

CREATE TABLE order_instance_notes (
    noteid INTEGER NOT NULL, 
    workflow_instanceid INTEGER NOT NULL, 
    username VARCHAR(160), 
    note VARCHAR(4000) NOT NULL, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_order_instance_notes PRIMARY KEY (noteid), 
    CONSTRAINT fk_order_instance_notes_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE INDEX ix_order_instance_notes_workflow_instanceid ON order_instance_notes (workflow_instanceid);

CREATE TABLE order_unique_keys (
    scope VARCHAR(1) NOT NULL, 
    scope_value VARCHAR(160) NOT NULL, 
    keyname VARCHAR(160) NOT NULL, 
    value VARCHAR(400) NOT NULL, 
    workflow_instanceid INTEGER NOT NULL, 
    CONSTRAINT pk_order_unique_keys PRIMARY KEY (scope, scope_value, keyname, value), 
    CONSTRAINT fk_order_unique_keys_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE INDEX ix_order_unique_keys_workflow_instanceid ON order_unique_keys (workflow_instanceid);

CREATE TABLE queue_data (
    queue_dataid INTEGER NOT NULL, 
    queueid INTEGER NOT NULL, 
    workflow_instanceid INTEGER NOT NULL, 
    stepid INTEGER NOT NULL, 
    ind INTEGER NOT NULL, 
    queuekey VARCHAR(240) NOT NULL, 
    queue_data_status VARCHAR(1) NOT NULL, 
    data TEXT, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_queue_data PRIMARY KEY (queue_dataid), 
    CONSTRAINT fk_queue_data_queueid_queues FOREIGN KEY(queueid) REFERENCES queues (queueid), 
    CONSTRAINT fk_queue_data_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid), 
    CONSTRAINT uq_queue_data_queueid_queuekey UNIQUE (queueid, queuekey)
);

CREATE INDEX ix_queue_data_workflow_instanceid_stepid_ind ON queue_data (workflow_instanceid, stepid, ind);

CREATE TABLE segment_instance (
    workflow_instanceid INTEGER NOT NULL, 
    segmentid INTEGER NOT NULL, 
    workflowid INTEGER NOT NULL, 
    segmentstatus VARCHAR(1) NOT NULL, 
    custom_status VARCHAR(1), 
    retry_trigger DATETIME, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_segment_instance PRIMARY KEY (workflow_instanceid, segmentid), 
    CONSTRAINT fk_segment_instance_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE INDEX ix_segment_instance_segmentstatus_retry_trigger ON segment_instance (segmentstatus, retry_trigger);

CREATE TABLE segment_steps (
    workflowid INTEGER NOT NULL, 
    stepid INTEGER NOT NULL, 
    segmentid INTEGER NOT NULL, 
    CONSTRAINT pk_segment_steps PRIMARY KEY (workflowid, stepid), 
    CONSTRAINT fk_segment_steps_stepid_steps FOREIGN KEY(stepid) REFERENCES steps (stepid), 
    CONSTRAINT fk_segment_steps_workflowid_workflows FOREIGN KEY(workflowid) REFERENCES workflows (workflowid)
);

CREATE TABLE sensitive_order_data (
    workflow_instanceid INTEGER NOT NULL, 
    skey VARCHAR(160) NOT NULL, 
    svalue VARCHAR(400) NOT NULL, 
    data TEXT NOT NULL, 
    iv VARCHAR(80) NOT NULL, 
    mac VARCHAR(80) NOT NULL, 
    meta TEXT, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_sensitive_order_data PRIMARY KEY (workflow_instanceid, skey, svalue), 
    CONSTRAINT fk_sensitive_order_data_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE TABLE step_instance (
    workflow_instanceid INTEGER NOT NULL, 
    stepid INTEGER NOT NULL, 
    ind INTEGER NOT NULL, 
    stepstatus VARCHAR(1) NOT NULL, 
    retries INTEGER NOT NULL, 
    skip BOOLEAN NOT NULL, 
    custom_status VARCHAR(1), 
    started DATETIME NOT NULL, 
    completed DATETIME, 
    CONSTRAINT pk_step_instance PRIMARY KEY (workflow_instanceid, stepid, ind), 
    CONSTRAINT fk_step_instance_stepid_steps FOREIGN KEY(stepid) REFERENCES steps (stepid), 
    CONSTRAINT fk_step_instance_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE TABLE workflow_steps (
    workflowid INTEGER NOT NULL, 
    stepid INTEGER NOT NULL, 
    dependson_stepid INTEGER NOT NULL, 
    CONSTRAINT pk_workflow_steps PRIMARY KEY (workflowid, stepid, dependson_stepid), 
    CONSTRAINT fk_workflow_steps_stepid_steps FOREIGN KEY(stepid) REFERENCES steps (stepid), 
    CONSTRAINT fk_workflow_steps_workflowid_workflows FOREIGN KEY(workflowid) REFERENCES workflows (workflowid)
);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING version_num;

-- Running upgrade 0001 -> 0002

CREATE TABLE workflow_events (
    workflow_event_typeid INTEGER NOT NULL, 
    eventkey VARCHAR(240) NOT NULL, 
    posted BOOLEAN NOT NULL, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_workflow_events PRIMARY KEY (workflow_event_typeid, eventkey), 
    CONSTRAINT fk_workflow_events_workflow_event_typeid_workflow_event_types FOREIGN KEY(workflow_event_typeid) REFERENCES workflow_event_types (workflow_event_typeid)
);

CREATE TABLE order_feedback (
    workflow_instanceid INTEGER NOT NULL, 
    feedback_key VARCHAR(160) NOT NULL, 
    child_workflow_instanceid INTEGER NOT NULL, 
    value TEXT, 
    created DATETIME NOT NULL, 
    modified DATETIME, 
    CONSTRAINT pk_order_feedback PRIMARY KEY (workflow_instanceid, feedback_key), 
    CONSTRAINT fk_order_feedback_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE TABLE step_instance_events (
    workflow_instanceid INTEGER NOT NULL, 
    stepid INTEGER NOT NULL, 
    ind INTEGER NOT NULL, 
    workflow_event_typeid INTEGER NOT NULL, 
    eventkey VARCHAR(240) NOT NULL, 
    created DATETIME NOT NULL, 
    CONSTRAINT pk_step_instance_events PRIMARY KEY (workflow_instanceid, stepid, ind), 
    CONSTRAINT fk_step_instance_events_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid)
);

CREATE INDEX ix_step_instance_events_workflow_event_typeid_eventkey ON step_instance_events (workflow_event_typeid, eventkey);

CREATE TABLE subworkflow_instance (
    workflow_instanceid INTEGER NOT NULL, 
    stepid INTEGER NOT NULL, 
    ind INTEGER NOT NULL, 
    subworkflow_instanceid INTEGER NOT NULL, 
    created DATETIME NOT NULL, 
    CONSTRAINT pk_subworkflow_instance PRIMARY KEY (workflow_instanceid, stepid, ind), 
    CONSTRAINT fk_subworkflow_instance_workflow_instanceid_workflow_instance FOREIGN KEY(workflow_instanceid) REFERENCES workflow_instance (workflow_instanceid), 
    CONSTRAINT uq_subworkflow_instance_subworkflow_instanceid UNIQUE (subworkflow_instanceid)
);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';


