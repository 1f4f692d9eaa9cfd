# frozen_string_literal: true

module Slugger
  module_function

  def slug(title)
    title.downcase.gsub(/[^a-z0-9]+/, "-")
  end

  def initials(name)
    name.split.map { |part| part[0] }.join.upcase
  end

  def excerpt(text, words: 5)
    parts = text.split
    return text if parts.size <= words

    parts.first(words).join(" ") + "..."
  end

  def author_line(post)
    "#{post[:author].fetch(:name)} (#{initials(post[:author][:name])})"
  end
end
