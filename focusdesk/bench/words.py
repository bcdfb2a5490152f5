"""The words a generated profile's text is made of (``bench.profile``)."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


# Words of at most five letters: each is one piece to the chunker's token estimate, so
# a paragraph's estimate is known from its word count (``profile._paragraph_words``).
FILLER = _words(
    "the of and to in is that for it as was with be by on not this are or from at "
    "which but have an they you were there one all we their been has when who will "
    "more no if out so said what up its about into than them can only other new some "
    "could time these two may then do first any my now such like our over even most "
    "made after also did many must back years where much your way well down shall "
    "each just those how too state good very make still own see work long get here "
    "both being under never day same know while last might us great old year off "
    "come since go came right used take three small large next early young few "
    "order plan test build check list note idea draft send reply fix run read "
    "write point issue case part group place week month today later again often"
)
TOPIC_WORDS = _words(
    "solar radar bike chip mouse cloud drone rust kafka vault lens piano tent "
    "boat fish bread wine brie tax loan rent audit grant paper model graph "
    "patch merge build cache proxy queue disk ram gpu linux shell code "
    "lan modem fiber wifi phone watch clock alarm lamp sofa desk chair "
    "lawn tree rose seed soil roof brick paint tile pipe valve pump motor "
    "gear shaft wheel brake chain pedal visor glove boot coat scarf hat "
    "novel poem essay comic film song album banjo drum cello choir opera "
    "chess poker golf darts rugby polo cycle swim climb hike trail ski "
    "camp yoga diet sleep sugar salt rice pasta pizza soup salad curry tea "
    "latte milk juice beer cider vodka rum glass plate knife spoon pan "
    "oven stove wok sink tap bath towel soap brush comb razor balm "
    "virus vote law court judge jury fraud bank bond stock fund trade price"
)
FIRST = _words(
    "Ada Alan Grace Linus Ken Barbara Edsger Donald Margaret John Radia Frances "
    "Guido Anita Tim Sophie Dennis Katherine Niklaus Hedy Claude Joan Bjarne Lynn"
)
LAST = _words(
    "Lovelace Turing Hopper Torvalds Thompson Liskov Dijkstra Knuth Hamilton "
    "McCarthy Perlman Allen Rossum Borg Berners Wilson Ritchie Johnson Wirth "
    "Lamarr Shannon Clarke Stroustrup Conway"
)
DOMAINS = ("example.org", "lists.example.net", "mail.example.com", "uni.example.edu")
