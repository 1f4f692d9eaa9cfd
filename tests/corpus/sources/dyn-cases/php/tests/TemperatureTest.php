<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/../src/Temperature.php';

final class TemperatureTest extends TestCase
{
    public static function celsiusProvider(): array
    {
        return [
            '-40C' => [-40.0, -40.0],
            '-35C' => [-35.0, -31.0],
            '-30C' => [-30.0, -22.0],
            '-25C' => [-25.0, -13.0],
            '-20C' => [-20.0, -4.0],
            '-15C' => [-15.0, 5.0],
            '-10C' => [-10.0, 14.0],
            '-5C' => [-5.0, 23.0],
            '0C' => [0.0, 32.0],
            '5C' => [5.0, 41.0],
            '10C' => [10.0, 50.0],
            '15C' => [15.0, 59.0],
            '20C' => [20.0, 68.0],
            '25C' => [25.0, 77.0],
            '30C' => [30.0, 86.0],
            '35C' => [35.0, 95.0],
            '40C' => [40.0, 104.0],
            '45C' => [45.0, 113.0],
            '50C' => [50.0, 122.0],
            '55C' => [55.0, 131.0],
            '60C' => [60.0, 140.0],
            '65C' => [65.0, 149.0],
            '70C' => [70.0, 158.0],
            '75C' => [75.0, 167.0],
            '80C' => [80.0, 176.0],
            '85C' => [85.0, 185.0],
            '90C' => [90.0, 194.0],
            '95C' => [95.0, 203.0],
            '100C' => [100.0, 212.0],
        ];
    }

    /** @dataProvider celsiusProvider */
    public function testToFahrenheit(float $c, float $f): void
    {
        $this->assertEqualsWithDelta($f, Temperature::toFahrenheit($c), 1e-9);
    }

    /** @dataProvider celsiusProvider */
    public function testRoundTrip(float $c, float $f): void
    {
        $this->assertEqualsWithDelta($c, Temperature::toCelsius($f), 1e-9);
    }

    public function testSummary(): void
    {
        $this->assertSame(['min' => 18.5, 'max' => 23.25, 'mean' => 20.75], Temperature::summary([18.5, 20.5, 23.25, 20.75]));
    }

    public function testSummaryOfNothing(): void
    {
        $this->expectException(InvalidArgumentException::class);
        Temperature::summary([]);
    }
}
