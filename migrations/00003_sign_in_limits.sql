-- +goose Up

-- A sign-in attempt is recorded (pending, counted as a failure) before its password is
-- checked, and settled afterwards: so the limits count attempts in flight, and no burst of
-- concurrent guesses gets more password checks than the limit allows.
ALTER TABLE login_attempts ADD COLUMN pending boolean NOT NULL DEFAULT false;
-- Failures an admin has forgiven (lifting a limit) stay on record but no longer count.
ALTER TABLE login_attempts ADD COLUMN cleared_at timestamptz;
CREATE INDEX login_attempts_email_ip_idx ON login_attempts (email, ip, attempted_at);

-- Where an account last signed in successfully. Such a place is exempt from the account's
-- growing delays, so an attack on the account from elsewhere does not lock its owner out.
CREATE TABLE sign_in_trusted (
    email           text        NOT NULL,
    ip              text        NOT NULL,
    last_success_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, ip)
);

-- Which user each session belongs to (the session data itself is opaque to SQL), so that a
-- new password or a disabled account can end every session of that user at once.
CREATE TABLE user_sessions (
    token      text        PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, created_at);

-- An ended session stays ended: a request of that session still in flight when it was ended
-- would otherwise write it back (the session store saves every request's session, to extend
-- its idle timeout, with an upsert).
-- +goose StatementBegin
CREATE FUNCTION sessions_refuse_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM user_sessions WHERE token = NEW.token AND ended_at IS NOT NULL) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER sessions_refuse_ended BEFORE INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_refuse_ended();

-- One-time links an admin hands to a user to set a password. Only a hash of the token is
-- kept, so a copy of the database cannot be used to take over an account; using a link
-- deletes it.
CREATE TABLE password_links (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by bigint      REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX password_links_user_idx ON password_links (user_id);

-- +goose Down
DROP TABLE password_links;
DROP TRIGGER sessions_refuse_ended ON sessions;
DROP FUNCTION sessions_refuse_ended();
DROP TABLE user_sessions;
DROP TABLE sign_in_trusted;
DROP INDEX login_attempts_email_ip_idx;
ALTER TABLE login_attempts DROP COLUMN cleared_at;
ALTER TABLE login_attempts DROP COLUMN pending;
