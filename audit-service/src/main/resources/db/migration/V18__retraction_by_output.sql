-- Search and export show whether a released output was taken down (and filter by it): the
-- retraction of each judged output, found by its output id.
create index content_retraction_output_idx on content_retraction (output_id);
