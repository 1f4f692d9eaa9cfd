<?php

declare(strict_types=1);

final class Temperature
{
    public static function toFahrenheit(float $celsius): float
    {
        return $celsius * 9 / 5 + 32;
    }

    public static function toCelsius(float $fahrenheit): float
    {
        return ($fahrenheit - 32) * 5 / 9;
    }

    /** @return array{min: float, max: float, mean: float} */
    public static function summary(array $readings): array
    {
        return [
            'min' => min($readings),
            'max' => max($readings),
            'mean' => round(array_sum($readings) / count($readings)),
        ];
    }
}
