package com.acme.cart;

import static org.junit.Assert.*;

import java.util.HashMap;
import java.util.Map;
import org.junit.Before;
import org.junit.Test;

public class CartTest {
    private Map<String, Long> prices;

    @Before
    public void setUp() {
        prices = new HashMap<>();
        prices.put("SKU000", 524L);
        prices.put("SKU001", 677L);
        prices.put("SKU002", 432L);
        prices.put("SKU003", 323L);
        prices.put("SKU004", 191L);
        prices.put("SKU005", 240L);
        prices.put("SKU006", 742L);
        prices.put("SKU007", 56L);
        prices.put("SKU008", 396L);
        prices.put("SKU009", 564L);
        prices.put("SKU010", 524L);
        prices.put("SKU011", 669L);
        prices.put("SKU012", 132L);
        prices.put("SKU013", 392L);
        prices.put("SKU014", 617L);
        prices.put("SKU015", 681L);
        prices.put("SKU016", 766L);
        prices.put("SKU017", 91L);
        prices.put("SKU018", 795L);
        prices.put("SKU019", 438L);
        prices.put("SKU020", 223L);
        prices.put("SKU021", 770L);
        prices.put("SKU022", 512L);
        prices.put("SKU023", 792L);
        prices.put("SKU024", 482L);
        prices.put("SKU025", 210L);
        prices.put("SKU026", 222L);
        prices.put("SKU027", 293L);
        prices.put("SKU028", 102L);
        prices.put("SKU029", 163L);
        prices.put("SKU030", 185L);
        prices.put("SKU031", 568L);
        prices.put("SKU032", 654L);
        prices.put("SKU033", 114L);
        prices.put("SKU034", 842L);
        prices.put("SKU035", 754L);
        prices.put("SKU036", 442L);
        prices.put("SKU037", 858L);
        prices.put("SKU038", 814L);
        prices.put("SKU039", 154L);
        prices.put("SKU040", 348L);
        prices.put("SKU041", 259L);
        prices.put("SKU042", 740L);
        prices.put("SKU043", 279L);
        prices.put("SKU044", 793L);
        prices.put("SKU045", 862L);
        prices.put("SKU046", 481L);
        prices.put("SKU047", 139L);
        prices.put("SKU048", 841L);
        prices.put("SKU049", 323L);
        prices.put("SKU050", 264L);
        prices.put("SKU051", 456L);
        prices.put("SKU052", 337L);
        prices.put("SKU053", 399L);
        prices.put("SKU054", 878L);
        prices.put("SKU055", 94L);
        prices.put("SKU056", 254L);
        prices.put("SKU057", 775L);
        prices.put("SKU058", 55L);
        prices.put("SKU059", 471L);
    }

    @Test
    public void addSingleSKU000() {
        Cart c = new Cart(prices);
        c.add("SKU000", 1);
        assertEquals(1, c.itemCount());
        assertEquals(524L, c.total());
    }

    @Test
    public void addSingleSKU001() {
        Cart c = new Cart(prices);
        c.add("SKU001", 7);
        assertEquals(7, c.itemCount());
        assertEquals(4739L, c.total());
    }

    @Test
    public void addSingleSKU002() {
        Cart c = new Cart(prices);
        c.add("SKU002", 8);
        assertEquals(8, c.itemCount());
        assertEquals(3456L, c.total());
    }

    @Test
    public void addSingleSKU003() {
        Cart c = new Cart(prices);
        c.add("SKU003", 3);
        assertEquals(3, c.itemCount());
        assertEquals(969L, c.total());
    }

    @Test
    public void addSingleSKU004() {
        Cart c = new Cart(prices);
        c.add("SKU004", 1);
        assertEquals(1, c.itemCount());
        assertEquals(191L, c.total());
    }

    @Test
    public void addSingleSKU005() {
        Cart c = new Cart(prices);
        c.add("SKU005", 4);
        assertEquals(4, c.itemCount());
        assertEquals(960L, c.total());
    }

    @Test
    public void addSingleSKU006() {
        Cart c = new Cart(prices);
        c.add("SKU006", 7);
        assertEquals(7, c.itemCount());
        assertEquals(5194L, c.total());
    }

    @Test
    public void addSingleSKU007() {
        Cart c = new Cart(prices);
        c.add("SKU007", 2);
        assertEquals(2, c.itemCount());
        assertEquals(112L, c.total());
    }

    @Test
    public void addSingleSKU008() {
        Cart c = new Cart(prices);
        c.add("SKU008", 1);
        assertEquals(1, c.itemCount());
        assertEquals(396L, c.total());
    }

    @Test
    public void addSingleSKU009() {
        Cart c = new Cart(prices);
        c.add("SKU009", 2);
        assertEquals(2, c.itemCount());
        assertEquals(1128L, c.total());
    }

    @Test
    public void addSingleSKU010() {
        Cart c = new Cart(prices);
        c.add("SKU010", 4);
        assertEquals(4, c.itemCount());
        assertEquals(2096L, c.total());
    }

    @Test
    public void addSingleSKU011() {
        Cart c = new Cart(prices);
        c.add("SKU011", 4);
        assertEquals(4, c.itemCount());
        assertEquals(2676L, c.total());
    }

    @Test
    public void addSingleSKU012() {
        Cart c = new Cart(prices);
        c.add("SKU012", 6);
        assertEquals(6, c.itemCount());
        assertEquals(792L, c.total());
    }

    @Test
    public void addSingleSKU013() {
        Cart c = new Cart(prices);
        c.add("SKU013", 1);
        assertEquals(1, c.itemCount());
        assertEquals(392L, c.total());
    }

    @Test
    public void addSingleSKU014() {
        Cart c = new Cart(prices);
        c.add("SKU014", 2);
        assertEquals(2, c.itemCount());
        assertEquals(1234L, c.total());
    }

    @Test
    public void addSingleSKU015() {
        Cart c = new Cart(prices);
        c.add("SKU015", 3);
        assertEquals(3, c.itemCount());
        assertEquals(2043L, c.total());
    }

    @Test
    public void addSingleSKU016() {
        Cart c = new Cart(prices);
        c.add("SKU016", 9);
        assertEquals(9, c.itemCount());
        assertEquals(6894L, c.total());
    }

    @Test
    public void addSingleSKU017() {
        Cart c = new Cart(prices);
        c.add("SKU017", 1);
        assertEquals(1, c.itemCount());
        assertEquals(91L, c.total());
    }

    @Test
    public void addSingleSKU018() {
        Cart c = new Cart(prices);
        c.add("SKU018", 9);
        assertEquals(9, c.itemCount());
        assertEquals(7155L, c.total());
    }

    @Test
    public void addSingleSKU019() {
        Cart c = new Cart(prices);
        c.add("SKU019", 2);
        assertEquals(2, c.itemCount());
        assertEquals(876L, c.total());
    }

    @Test
    public void addSingleSKU020() {
        Cart c = new Cart(prices);
        c.add("SKU020", 8);
        assertEquals(8, c.itemCount());
        assertEquals(1784L, c.total());
    }

    @Test
    public void addSingleSKU021() {
        Cart c = new Cart(prices);
        c.add("SKU021", 9);
        assertEquals(9, c.itemCount());
        assertEquals(6930L, c.total());
    }

    @Test
    public void addSingleSKU022() {
        Cart c = new Cart(prices);
        c.add("SKU022", 4);
        assertEquals(4, c.itemCount());
        assertEquals(2048L, c.total());
    }

    @Test
    public void addSingleSKU023() {
        Cart c = new Cart(prices);
        c.add("SKU023", 7);
        assertEquals(7, c.itemCount());
        assertEquals(5544L, c.total());
    }

    @Test
    public void addSingleSKU024() {
        Cart c = new Cart(prices);
        c.add("SKU024", 2);
        assertEquals(2, c.itemCount());
        assertEquals(964L, c.total());
    }

    @Test
    public void addSingleSKU025() {
        Cart c = new Cart(prices);
        c.add("SKU025", 7);
        assertEquals(7, c.itemCount());
        assertEquals(1470L, c.total());
    }

    @Test
    public void addSingleSKU026() {
        Cart c = new Cart(prices);
        c.add("SKU026", 4);
        assertEquals(4, c.itemCount());
        assertEquals(888L, c.total());
    }

    @Test
    public void addSingleSKU027() {
        Cart c = new Cart(prices);
        c.add("SKU027", 2);
        assertEquals(2, c.itemCount());
        assertEquals(586L, c.total());
    }

    @Test
    public void addSingleSKU028() {
        Cart c = new Cart(prices);
        c.add("SKU028", 3);
        assertEquals(3, c.itemCount());
        assertEquals(306L, c.total());
    }

    @Test
    public void addSingleSKU029() {
        Cart c = new Cart(prices);
        c.add("SKU029", 3);
        assertEquals(3, c.itemCount());
        assertEquals(489L, c.total());
    }

    @Test
    public void addSingleSKU030() {
        Cart c = new Cart(prices);
        c.add("SKU030", 1);
        assertEquals(1, c.itemCount());
        assertEquals(185L, c.total());
    }

    @Test
    public void addSingleSKU031() {
        Cart c = new Cart(prices);
        c.add("SKU031", 1);
        assertEquals(1, c.itemCount());
        assertEquals(568L, c.total());
    }

    @Test
    public void addSingleSKU032() {
        Cart c = new Cart(prices);
        c.add("SKU032", 5);
        assertEquals(5, c.itemCount());
        assertEquals(3270L, c.total());
    }

    @Test
    public void addSingleSKU033() {
        Cart c = new Cart(prices);
        c.add("SKU033", 9);
        assertEquals(9, c.itemCount());
        assertEquals(1026L, c.total());
    }

    @Test
    public void addSingleSKU034() {
        Cart c = new Cart(prices);
        c.add("SKU034", 3);
        assertEquals(3, c.itemCount());
        assertEquals(2526L, c.total());
    }

    @Test
    public void addSingleSKU035() {
        Cart c = new Cart(prices);
        c.add("SKU035", 5);
        assertEquals(5, c.itemCount());
        assertEquals(3770L, c.total());
    }

    @Test
    public void addSingleSKU036() {
        Cart c = new Cart(prices);
        c.add("SKU036", 1);
        assertEquals(1, c.itemCount());
        assertEquals(442L, c.total());
    }

    @Test
    public void addSingleSKU037() {
        Cart c = new Cart(prices);
        c.add("SKU037", 2);
        assertEquals(2, c.itemCount());
        assertEquals(1716L, c.total());
    }

    @Test
    public void addSingleSKU038() {
        Cart c = new Cart(prices);
        c.add("SKU038", 7);
        assertEquals(7, c.itemCount());
        assertEquals(5698L, c.total());
    }

    @Test
    public void addSingleSKU039() {
        Cart c = new Cart(prices);
        c.add("SKU039", 4);
        assertEquals(4, c.itemCount());
        assertEquals(616L, c.total());
    }

    @Test
    public void addSingleSKU040() {
        Cart c = new Cart(prices);
        c.add("SKU040", 3);
        assertEquals(3, c.itemCount());
        assertEquals(1044L, c.total());
    }

    @Test
    public void addSingleSKU041() {
        Cart c = new Cart(prices);
        c.add("SKU041", 9);
        assertEquals(9, c.itemCount());
        assertEquals(2331L, c.total());
    }

    @Test
    public void addSingleSKU042() {
        Cart c = new Cart(prices);
        c.add("SKU042", 1);
        assertEquals(1, c.itemCount());
        assertEquals(740L, c.total());
    }

    @Test
    public void addSingleSKU043() {
        Cart c = new Cart(prices);
        c.add("SKU043", 6);
        assertEquals(6, c.itemCount());
        assertEquals(1674L, c.total());
    }

    @Test
    public void addSingleSKU044() {
        Cart c = new Cart(prices);
        c.add("SKU044", 9);
        assertEquals(9, c.itemCount());
        assertEquals(7137L, c.total());
    }

    @Test
    public void addSingleSKU045() {
        Cart c = new Cart(prices);
        c.add("SKU045", 2);
        assertEquals(2, c.itemCount());
        assertEquals(1724L, c.total());
    }

    @Test
    public void addSingleSKU046() {
        Cart c = new Cart(prices);
        c.add("SKU046", 6);
        assertEquals(6, c.itemCount());
        assertEquals(2886L, c.total());
    }

    @Test
    public void addSingleSKU047() {
        Cart c = new Cart(prices);
        c.add("SKU047", 2);
        assertEquals(2, c.itemCount());
        assertEquals(278L, c.total());
    }

    @Test
    public void addSingleSKU048() {
        Cart c = new Cart(prices);
        c.add("SKU048", 6);
        assertEquals(6, c.itemCount());
        assertEquals(5046L, c.total());
    }

    @Test
    public void addSingleSKU049() {
        Cart c = new Cart(prices);
        c.add("SKU049", 8);
        assertEquals(8, c.itemCount());
        assertEquals(2584L, c.total());
    }

    @Test
    public void addSingleSKU050() {
        Cart c = new Cart(prices);
        c.add("SKU050", 4);
        assertEquals(4, c.itemCount());
        assertEquals(1056L, c.total());
    }

    @Test
    public void addSingleSKU051() {
        Cart c = new Cart(prices);
        c.add("SKU051", 7);
        assertEquals(7, c.itemCount());
        assertEquals(3192L, c.total());
    }

    @Test
    public void addSingleSKU052() {
        Cart c = new Cart(prices);
        c.add("SKU052", 4);
        assertEquals(4, c.itemCount());
        assertEquals(1348L, c.total());
    }

    @Test
    public void addSingleSKU053() {
        Cart c = new Cart(prices);
        c.add("SKU053", 1);
        assertEquals(1, c.itemCount());
        assertEquals(399L, c.total());
    }

    @Test
    public void addSingleSKU054() {
        Cart c = new Cart(prices);
        c.add("SKU054", 7);
        assertEquals(7, c.itemCount());
        assertEquals(6146L, c.total());
    }

    @Test
    public void addSingleSKU055() {
        Cart c = new Cart(prices);
        c.add("SKU055", 6);
        assertEquals(6, c.itemCount());
        assertEquals(564L, c.total());
    }

    @Test
    public void addSingleSKU056() {
        Cart c = new Cart(prices);
        c.add("SKU056", 1);
        assertEquals(1, c.itemCount());
        assertEquals(254L, c.total());
    }

    @Test
    public void addSingleSKU057() {
        Cart c = new Cart(prices);
        c.add("SKU057", 7);
        assertEquals(7, c.itemCount());
        assertEquals(5425L, c.total());
    }

    @Test
    public void addSingleSKU058() {
        Cart c = new Cart(prices);
        c.add("SKU058", 2);
        assertEquals(2, c.itemCount());
        assertEquals(110L, c.total());
    }

    @Test
    public void addSingleSKU059() {
        Cart c = new Cart(prices);
        c.add("SKU059", 4);
        assertEquals(4, c.itemCount());
        assertEquals(1884L, c.total());
    }

    @Test(expected = IllegalArgumentException.class)
    public void unknownSkuRejected() {
        new Cart(prices).add("NOPE", 1);
    }

    @Test
    public void discountAppliesAtExactlyOneHundred() {
        prices.put("GIFT", 5000L);
        Cart c = new Cart(prices);
        c.add("GIFT", 2);
        assertEquals("orders of exactly 100.00 get 10% off", 9000L, c.total());
    }

    @Test
    public void summaryListsLines() {
        Cart c = new Cart(prices);
        c.add("SKU001", 2);
        c.add("SKU002", 1);
        assertEquals("SKU001 x2, SKU002 x1", c.summary());
    }

    @Test
    public void removeDropsLine() {
        Cart c = new Cart(prices);
        c.add("SKU003", 2);
        c.remove("SKU003");
        assertEquals(0, c.itemCount());
    }
}
