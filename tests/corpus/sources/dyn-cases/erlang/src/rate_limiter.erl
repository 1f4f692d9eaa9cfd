-module(rate_limiter).
-export([new/2, allow/2, tokens/1]).

%% Token bucket: Capacity tokens, refilled at Rate tokens per second.
new(Capacity, Rate) ->
    #{capacity => Capacity, rate => Rate, tokens => Capacity, last => 0}.

allow(Bucket = #{tokens := Tokens}, Now) ->
    Refilled = refill(Bucket, Now),
    case Tokens of
        T when T >= 1 -> {ok, Refilled#{tokens := maps:get(tokens, Refilled) - 1}};
        _ -> {error, rate_limited}
    end.

tokens(#{tokens := T}) -> T.

refill(B = #{capacity := C, rate := R, tokens := T, last := Last}, Now) ->
    Elapsed = Now - Last,
    B#{tokens := min(C, T + Elapsed * R), last := Now}.
