-- Included by the jobs tests (\i): pg_temp.try(command) runs command and
-- returns 'ok', or the error as "SQLSTATE message" (+ its hint), so that the
-- expected output shows the code.
CREATE FUNCTION pg_temp.try(command text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text;
	message text;
	hint text;
BEGIN
	EXECUTE command;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
	RETURN state || ' ' || message || coalesce(E'\nHINT: ' || NULLIF(hint, ''), '');
END
$$;
