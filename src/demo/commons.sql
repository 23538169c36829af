-- The demo commons: one schema, separate from dpgate's own tables in `dpgate`.
CREATE SCHEMA IF NOT EXISTS commons;

-- Public: the communities that pooled their records.
CREATE TABLE commons.communities (
  community_id text PRIMARY KEY,
  name         text NOT NULL,
  region       text NOT NULL
);

-- One row per person: the privacy unit.
CREATE TABLE commons.people (
  person_id    integer PRIMARY KEY,
  community_id text NOT NULL REFERENCES commons.communities (community_id),
  age          integer NOT NULL,
  sex          integer NOT NULL,
  educ         integer NOT NULL,
  race         integer NOT NULL,
  income       double precision NOT NULL,
  married      integer NOT NULL
);

-- One to four survey responses per person.
CREATE TABLE commons.survey_responses (
  response_id integer PRIMARY KEY,
  person_id   integer NOT NULL REFERENCES commons.people (person_id),
  age         integer NOT NULL,
  sex         integer NOT NULL,
  educ        integer NOT NULL,
  race        integer NOT NULL,
  income      double precision NOT NULL,
  married     integer NOT NULL
);
CREATE INDEX survey_responses_person ON commons.survey_responses (person_id);
