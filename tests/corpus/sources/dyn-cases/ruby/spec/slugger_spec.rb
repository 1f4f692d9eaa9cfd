require_relative "../lib/slugger"

RSpec.describe Slugger do
  describe ".slug" do
    it "turns Hello World into hello-world" do
      expect(Slugger.slug("Hello World")).to eq("hello-world")
    end

    it "turns Ruby 3.1 Released into ruby-3-1-released" do
      expect(Slugger.slug("Ruby 3.1 Released")).to eq("ruby-3-1-released")
    end

    it "turns a_b c into a-b-c" do
      expect(Slugger.slug("a_b c")).to eq("a-b-c")
    end

    it "turns CAPS into caps" do
      expect(Slugger.slug("CAPS")).to eq("caps")
    end

    it "turns x into x" do
      expect(Slugger.slug("x")).to eq("x")
    end

    it "turns one two three into one-two-three" do
      expect(Slugger.slug("one two three")).to eq("one-two-three")
    end

    it "turns Rails & Hanami into rails-hanami" do
      expect(Slugger.slug("Rails & Hanami")).to eq("rails-hanami")
    end

    it "turns   spaced out   into spaced-out" do
      expect(Slugger.slug("  spaced out  ")).to eq("spaced-out")
    end

    it "turns Trailing! into trailing" do
      expect(Slugger.slug("Trailing!")).to eq("trailing")
    end

  end

  describe ".initials" do
    it "abbreviates Ada Lovelace" do
      expect(Slugger.initials("Ada Lovelace")).to eq("AL")
    end

    it "abbreviates grace brewster hopper" do
      expect(Slugger.initials("grace brewster hopper")).to eq("GBH")
    end

    it "abbreviates Linus" do
      expect(Slugger.initials("Linus")).to eq("L")
    end

  end

  describe ".excerpt" do
    it "keeps short text" do
      expect(Slugger.excerpt("short text")).to eq("short text")
    end

    it "cuts long text with an ellipsis" do
      text = "the quick brown fox jumps over the lazy dog"
      expect(Slugger.excerpt(text, words: 4)).to eq("the quick brown fox…")
    end
  end

  describe ".author_line" do
    it "renders the author with initials" do
      post = { title: "Intro", author: { name: "Ada Lovelace" } }
      expect(Slugger.author_line(post)).to eq("Ada Lovelace (AL)")
    end

    it "falls back for guest posts" do
      post = { title: "Guest", author: nil }
      expect(Slugger.author_line(post)).to eq("Guest author")
    end
  end
end
