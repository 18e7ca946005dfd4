-- Bias audit state, in its own schema (bias_audit); Flyway's history table lives here too.
-- The audit service's tables (public.*) are only read, never written, by this module.

-- A campaign as planned: the file as given, its normalised form and the data files it read.
create table campaign (
    campaign_id       text primary key,
    name              text not null,
    design            text not null check (design in ('COUNTERFACTUAL', 'STRATIFIED')),
    tenant_id         text not null,
    backend           text not null,
    model             text,
    samples_per_group int  not null,
    group_names       text[] not null,
    template_count    int  not null,
    planned_samples   int  not null,
    spec              jsonb not null,
    spec_sha256       text not null,
    data_sources      jsonb not null,
    created_at        timestamptz not null
);

-- Every request the campaign will submit, persisted before the first one is sent, so that an
-- interrupted campaign can say exactly which samples are missing and resume them.
create table campaign_sample (
    campaign_id    text not null references campaign (campaign_id),
    sample_index   int  not null,
    group_name     text not null,
    slot           int  not null,
    template_index int  not null,
    template       text not null,
    term           text not null,
    prompt         text not null,
    seed           bigint not null,
    primary key (campaign_id, sample_index)
);

-- Request ids a sample was submitted under (the API assigns them). More than one only after an
-- explicit re-submission of a sample whose request was lost; the report uses the first verdict.
create table campaign_submission (
    request_id   text primary key,
    campaign_id  text not null,
    sample_index int  not null,
    submitted_at timestamptz not null,
    source       text not null check (source in ('api', 'reconciled')),
    foreign key (campaign_id, sample_index) references campaign_sample (campaign_id, sample_index)
);
create index campaign_submission_sample_idx on campaign_submission (campaign_id, sample_index);

-- A generated report: the full document (what JSON export returns) and the headline for lists.
create table report (
    report_id          text primary key,
    campaign_id        text not null references campaign (campaign_id),
    created_at         timestamptz not null,
    complete           boolean not null,
    samples_planned    int not null,
    samples_analysed   int not null,
    disparity_detected boolean not null,
    four_fifths_flag   boolean not null,
    headline           jsonb not null,
    document           jsonb not null,
    document_sha256    text not null
);
create index report_campaign_time_idx on report (campaign_id, created_at desc);

-- Live bias alerts from the bias-aggregation job: a model's window in which some group's rates
-- differ from the rest significantly after correction. One row per model and window (idempotent).
create table live_alert (
    alert_id        text primary key,
    model           text not null,
    window_start    timestamptz not null,
    window_end      timestamptz not null,
    groups_compared int not null,
    tests           int not null,
    correction      text not null,
    alpha           double precision not null,
    findings        jsonb not null,
    detected_at     timestamptz not null
);
create index live_alert_window_idx on live_alert (window_end desc);
