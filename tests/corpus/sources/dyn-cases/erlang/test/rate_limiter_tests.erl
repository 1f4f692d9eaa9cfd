-module(rate_limiter_tests).
-include_lib("eunit/include/eunit.hrl").

new_bucket_is_full_test() ->
    ?assertEqual(5, rate_limiter:tokens(rate_limiter:new(5, 1))).

allow_consumes_token_test() ->
    {ok, B} = rate_limiter:allow(rate_limiter:new(2, 1), 0),
    ?assertEqual(1, rate_limiter:tokens(B)).

empty_bucket_refuses_test() ->
    B0 = rate_limiter:new(1, 1),
    {ok, B1} = rate_limiter:allow(B0, 0),
    ?assertEqual({error, rate_limited}, rate_limiter:allow(B1, 0)).

refill_after_a_second_test() ->
    B0 = rate_limiter:new(1, 1),
    {ok, B1} = rate_limiter:allow(B0, 0),
    {ok, B2} = rate_limiter:allow(B1, 1),
    ?assertEqual(0, rate_limiter:tokens(B2)).

refill_is_capped_test() ->
    {ok, B} = rate_limiter:allow(rate_limiter:new(3, 10), 100),
    ?assertEqual(2, rate_limiter:tokens(B)).
