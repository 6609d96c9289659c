-- name: UserSessionInsert :exec
INSERT INTO user_sessions (token, user_id) VALUES (@token, @user_id) ON CONFLICT (token) DO NOTHING;

-- name: UserSessionsEnd :execrows
-- Ends every session of a user: marks them ended (so a request in flight cannot save them
-- back) and deletes them from the session store.
WITH ended AS (
    UPDATE user_sessions SET ended_at = now() WHERE user_id = @user_id AND ended_at IS NULL RETURNING token
)
DELETE FROM sessions WHERE token IN (SELECT token FROM ended);

-- name: UserSessionPurge :exec
-- Forgets a user's sessions older than any session can live.
DELETE FROM user_sessions WHERE user_id = @user_id AND created_at < @before::timestamptz;
